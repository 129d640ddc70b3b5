// Starts Swagger UI on this service's own document. A file rather than an
// inline script, so the page's content security policy can forbid inline
// scripts.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The default validator badge is an image from a third-party host.
    validatorUrl: null,
  });
});
