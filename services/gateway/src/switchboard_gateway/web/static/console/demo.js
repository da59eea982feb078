// Loads the widget the way a customer's site would: one script tag with the inbox's widget token. The page's
// own texts follow the same language as the widget (?lang=, else the browser's languages).
(function () {
  "use strict";
  async function translate(params) {
    try {
      var available = await (await fetch("/i18n/index.json")).json();
      var wanted = [params.get("lang")].concat(navigator.languages || [navigator.language]);
      var lang = "en";
      for (var i = 0; i < wanted.length; i++) {
        var code = wanted[i] && String(wanted[i]).toLowerCase().split("-")[0];
        if (code && available.indexOf(code) >= 0) { lang = code; break; }
      }
      var strings = await (await fetch("/i18n/" + lang + ".json")).json();
      document.documentElement.lang = lang;
      if (strings["demo.page_title"]) document.title = strings["demo.page_title"];
      [["demo-title", "demo.title"], ["demo-text", "demo.text"], ["demo-missing", "demo.missing"], ["demo-snippet-label", "demo.snippet"]]
        .forEach(function (pair) { if (strings[pair[1]]) document.getElementById(pair[0]).textContent = strings[pair[1]]; });
    } catch (e) { /* the English text stays */ }
  }
  function start() {
    var params = new URLSearchParams(location.search);
    translate(params);
    var token = params.get("widget_token");
    if (!token) { document.getElementById("demo-missing").hidden = false; return; }
    var tag = document.createElement("script");
    tag.src = location.origin + "/widget.js";
    tag.async = true;
    tag.setAttribute("data-widget-token", token);
    if (params.get("lang")) tag.setAttribute("data-lang", params.get("lang"));
    document.getElementById("demo-snippet-label").hidden = false;
    document.getElementById("demo-snippet").textContent =
      '<script src="' + tag.src + '" data-widget-token="' + token + '" async></script>';
    document.body.appendChild(tag);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
