// Renders the API document served next to this page (openapi.json) with Swagger UI,
// operations grouped by module tag. Everything it loads comes from this server: the
// page's Content-Security-Policy allows no other host, and the online validator badge
// (validatorUrl) is turned off.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: new URL("openapi.json", window.location.href).href,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    docExpansion: "list",
    displayOperationId: true,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
    persistAuthorization: false,
    validatorUrl: null,
    tryItOutEnabled: false,
  });
});
