// The pages' entry point: each page is a module that draws into #view.
// Pages are loaded on demand, so the sign-up page fetches only its own code.
import { showProblem } from "./forms.js";

const pages = {
  signup: () => import("./signup.js"),
  login: () => import("./login.js"),
  account: () => import("./account.js"),
  "confirm-email": () => import("./links.js"),
  "reset-password": () => import("./links.js"),
};

async function start() {
  const name = document.body.dataset.page;
  const view = document.getElementById("view");
  const current = document.querySelector(`nav a[href="/ui/${name}"]`);
  if (current) current.setAttribute("aria-current", "page");
  try {
    const page = await pages[name]();
    await page.render(view, name);
  } catch (error) {
    showProblem(view, error);
  }
}

start();
