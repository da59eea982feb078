// Loads the widget the way a customer's site would: one script tag with the inbox's widget token.
(function () {
  "use strict";
  function start() {
    var params = new URLSearchParams(location.search);
    var token = params.get("widget_token");
    if (!token) { document.getElementById("demo-missing").hidden = false; return; }
    var tag = document.createElement("script");
    tag.src = location.origin + "/widget.js";
    tag.async = true;
    tag.setAttribute("data-widget-token", token);
    if (params.get("lang")) tag.setAttribute("data-lang", params.get("lang"));
    document.getElementById("demo-snippet").textContent =
      '<script src="' + tag.src + '" data-widget-token="' + token + '" async></script>';
    document.body.appendChild(tag);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
