// The credits on the account page: the balance, the ledger newest first
// (GET /users/me/credits, "More" following the cursor), and the place
// where buying credits goes.
import { authed, call } from "./api.js";
import { form, h, showErrors } from "./forms.js";

const LIMIT = 10;

// The service's fixed reasons; anything else is an operator's own words.
const REASONS = {
  signup: "Welcome credits",
  task: "Task",
  task_refund: "Task refunded",
  purchase: "Purchase",
  purchase_refund: "Purchase refunded",
};

function signed(amount) {
  // U+2212, the minus sign: read as "minus", and as wide as the plus.
  return amount > 0 ? `+${amount}` : amount < 0 ? `\u2212${-amount}` : "0";
}

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function entry(item) {
  const kind = item.amount < 0 ? "minus" : "plus";
  return h("li", { "data-entry": item.id, tabindex: "-1" },
    h("div", { class: "row" },
      h("strong", { class: `amount ${kind}` }, signed(item.amount)),
      h("span", {}, REASONS[item.reason] || item.reason)),
    h("div", { class: "muted" }, h("time", { datetime: item.created_at }, when(item.created_at)),
      item.reference ? h("span", { class: "ref" }, ` · ${item.reference}`) : null));
}

function price(pack) {
  const amount = pack.price_cents / 100;
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: pack.currency.toUpperCase() })
      .format(amount);
  } catch {
    return `${amount.toFixed(2)} ${pack.currency.toUpperCase()}`;
  }
}

// The packs on sale are the deployment's (CREDIT_PACKS): the served
// OpenAPI document lists them under the checkout's `pack` (`x-packs`).
async function buyForm() {
  const document = await call("GET", "/openapi.json");
  const pack = document.components.schemas.CheckoutRequest.properties.pack;
  const packs = pack["x-packs"] || [];
  if (!packs.length) return null;
  const choices = packs.map((item, index) =>
    h("div", { "data-pack": item.name },
      h("label", { class: "check" },
        h("input", { type: "radio", name: "pack", value: item.name, checked: index === 0 }),
        `${item.credits} credits for ${price(item)}`)));
  return form({
    label: "Buy credits",
    fields: [],
    extra: [h("fieldset", {}, h("legend", {}, "Pack"), choices)],
    button: "Buy",
    async submit(_, element) {
      const chosen = element.querySelector('input[name="pack"]:checked');
      const answer = await authed("POST", "/billing/checkout", { pack: chosen.value });
      // Stripe's checkout page (locally, the service's own pay page).
      location.assign(answer.data.checkout_url);
      return "Opening the payment page…";
    },
  });
}

export async function renderCredits(box) {
  const problems = h("div", { class: "summary", role: "alert", tabindex: "-1" });
  const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
  const balance = h("strong", {});
  const list = h("ul", { class: "ledger", "aria-label": "Credit history, newest first" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "More");
  // Buy credits: POST /billing/checkout, then the payment page.
  const buy = h("div", { id: "buy-credits" });
  let cursor = null;

  async function load() {
    const query = new URLSearchParams({ limit: String(LIMIT) });
    if (cursor) query.set("cursor", cursor);
    const answer = await authed("GET", `/users/me/credits?${query}`);
    balance.textContent = String(answer.data.balance);
    const added = answer.data.items.map(entry);
    list.append(...added);
    cursor = answer.meta && answer.meta.next_cursor;
    more.hidden = !cursor;
    if (!list.childElementCount) list.append(h("li", { class: "muted" }, "No entries yet."));
    return added;
  }

  more.addEventListener("click", async () => {
    more.disabled = true;
    problems.textContent = "";
    try {
      const added = await load();
      status.textContent = `${added.length} older ${added.length === 1 ? "entry" : "entries"} shown.`;
      // The button is gone after the last page: keep the focus in the list.
      if (more.hidden && added.length) added[0].focus();
    } catch (error) {
      showErrors(box, error);
    } finally {
      more.disabled = false;
    }
  });

  box.replaceChildren(problems, status,
    h("p", { class: "balance" }, "Balance: ", balance, " credits"),
    buy, h("h3", {}, "History"), list, h("div", { class: "row" }, more));
  try {
    await load();
  } catch (error) {
    showErrors(box, error);
  }
  try {
    const purchase = await buyForm();
    if (purchase) buy.replaceChildren(h("h3", {}, "Buy credits"), purchase);
  } catch (error) {
    showErrors(box, error);
  }
}
