// Starts GraphiQL on Carebook's GET /graphql page (carebook/web/graphiql.py). A file rather than
// an inline script, so the page's Content-Security-Policy can allow scripts from 'self' only.
(function () {
  "use strict";

  // The placeholder the header editor starts with: sent as it is, it would be a rejected
  // credential (every operation UNAUTHENTICATED, the schema included), so it is left out.
  var PLACEHOLDER = "Basic <your API key>";

  var DEFAULT_HEADERS = JSON.stringify(
    { Authorization: PLACEHOLDER, AuthorizationSource: "API" },
    null,
    2,
  );

  var DEFAULT_QUERY = [
    "# Carebook's GraphQL API: Healthie's schema.",
    "# Paste your API key into the Headers tab below, then run:",
    "",
    "query {",
    "  currentUser {",
    "    id",
    "    email",
    "  }",
    "}",
    "",
  ].join("\n");

  function withoutPlaceholder(headers) {
    var sent = Object.assign({}, headers || {});
    if (sent.Authorization === PLACEHOLDER) {
      delete sent.Authorization;
      delete sent.AuthorizationSource;
    }
    return sent;
  }

  var url = window.location.origin + window.location.pathname;
  var send = GraphiQL.createFetcher({ url: url });

  function fetcher(params, options) {
    var opts = Object.assign({}, options || {});
    opts.headers = withoutPlaceholder(opts.headers);
    return send(params, opts);
  }

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      defaultHeaders: DEFAULT_HEADERS,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      // An API key typed into the header editor is never written to the browser's storage.
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    }),
  );
})();
