// Sign-up: the fields are those of POST /auth/signup as the served OpenAPI
// document describes them, so the page follows the deployment's
// PROFILE_FIELDS without a change here.
import { call, signIn } from "./api.js";
import { field, form, h, humanize, ordered } from "./forms.js";

// Wording and browser hints for the names this service is known to use;
// any other field still appears, labelled from its name.
const KNOWN = {
  username: { label: "Username", autocomplete: "username" },
  email: { label: "Email address", type: "email", autocomplete: "email" },
  password: { label: "Password", type: "password", autocomplete: "new-password",
    hint: "At least 8 characters; not a common password." },
  confirm_password: { label: "Repeat the password", type: "password", autocomplete: "new-password" },
  password_confirm: { label: "Repeat the password", type: "password", autocomplete: "new-password" },
  first_name: { label: "First name", autocomplete: "given-name" },
  last_name: { label: "Last name", autocomplete: "family-name" },
  birth_date: { label: "Date of birth", type: "date", autocomplete: "bday" },
  mobileNo: { label: "Mobile number", type: "tel", autocomplete: "tel" },
  phoneNo: { label: "Phone number", type: "tel" },
  personalNo: { label: "Personal number", type: "tel" },
  unitname: { label: "Unit name" },
};

// Names the form does not ask for: set by the service or by operators.
const SKIP = new Set(["status"]);

function resolve(schema, document) {
  const ref = schema && schema.$ref;
  return ref ? document.components.schemas[ref.split("/").pop()] : schema;
}

export function signUpFields(document) {
  const operation = document.paths["/auth/signup"]?.post;
  const content = operation?.requestBody?.content["application/json"]?.schema;
  let schema = resolve(content || { $ref: "#/components/schemas/SignUpRequest" }, document);
  // A oneOf (the phone-shaped body beside the usual one): the variant
  // that has a password.
  for (const variant of schema.oneOf || schema.anyOf || []) {
    const resolved = resolve(variant, document);
    if (resolved.properties && resolved.properties.password) schema = resolved;
  }
  const required = new Set(schema.required || []);
  // Required fields in the schema's order, then the optional ones.
  const names = ordered([...(schema.required || []), ...Object.keys(schema.properties)]
    .filter((name, at, all) => all.indexOf(name) === at && name in schema.properties && !SKIP.has(name)));
  return names
    .map((name) => [name, schema.properties[name]])
    .map(([name, property]) => {
      const known = KNOWN[name] || {};
      const type = known.type || (property.format === "email" ? "email"
        : property.format === "date" ? "date" : "text");
      return {
        name, type,
        label: known.label || humanize(name),
        autocomplete: known.autocomplete,
        hint: known.hint || (/\\d\{9,15\}/.test(property.pattern || "")
          ? "9 to 15 digits, with the country code, e.g. +919876543210." : null),
        required: required.has(name),
        maxLength: property.maxLength,
      };
    });
}

export async function render(view) {
  const document = await call("GET", "/openapi.json");
  const specs = signUpFields(document);
  const signup = form({
    label: "Create an account",
    fields: specs.map(field),
    button: "Create account",
    async submit(values) {
      const body = {};
      for (const spec of specs) {
        const value = values[spec.name];
        // Optional fields left empty are not sent.
        if (value !== "" || spec.required) body[spec.name] = value;
      }
      const answer = await call("POST", "/auth/signup", body);
      const user = answer.data.user;
      await signIn("/auth/login", { login: user.username || user.email, password: body.password });
      location.assign("/ui/account#welcome");
    },
  });
  view.replaceChildren(
    h("p", { class: "hint" }, "Fields marked * are required."),
    h("section", {}, signup),
    h("p", {}, "Already have an account? ", h("a", { href: "/ui/login" }, "Sign in")),
  );
}
