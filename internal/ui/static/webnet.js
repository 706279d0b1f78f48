// webnet.js: behaviour every page shares. Pages work without it for reading; it only adds
// conveniences. No inline scripts anywhere (the CSP forbids them): pages opt in with data-
// attributes.
"use strict";

// data-confirm on a form or button: ask before submitting (htmx requests use hx-confirm).
document.addEventListener("submit", function (ev) {
  var f = ev.target;
  var msg = f.getAttribute("data-confirm") || (ev.submitter && ev.submitter.getAttribute("data-confirm"));
  if (msg && !window.confirm(msg)) {
    ev.preventDefault();
  }
});
