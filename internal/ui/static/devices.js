// devices.js: the device list's conveniences. The list works without it (the bar shows by
// CSS and "Choose action" asks the server for the buttons); with it, htmx asks the server
// for the bar on every change of the selection (hx-post on the form), and this file keeps
// "select all" in step and lets error answers into the bar and the results.
"use strict";

(function () {
  function boxes(form) {
    return form.querySelectorAll("input[name=device]");
  }

  // Capture phase: runs before htmx's listener on the form, so the post that the change
  // triggers carries the boxes "select all" just set.
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    var form = t.form;
    if (!form || form.id !== "devices-select") {
      return;
    }
    var all = form.querySelector("#devices-all");
    if (t === all) {
      boxes(form).forEach(function (b) { b.checked = all.checked; });
      return;
    }
    if (t.name === "device" && all) {
      var n = 0, list = boxes(form);
      list.forEach(function (b) { if (b.checked) { n++; } });
      all.checked = n === list.length && n > 0;
      all.indeterminate = n > 0 && n < list.length;
    }
  }, true);

  // The server answers a bad filter (400) or a selection it will not act on (403, 404)
  // with a fragment that says why: show it rather than drop it.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var id = ev.detail.target && ev.detail.target.id;
    var s = ev.detail.xhr.status;
    if ((id === "devices-bar" || id === "devices-results") && s >= 400 && s < 500) {
      ev.detail.shouldSwap = true;
      ev.detail.isError = false;
    }
  });
})();
