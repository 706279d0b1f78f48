// admin.js: the firmware upload's progress bar. A form with data-upload is posted to that
// API address with XMLHttpRequest, so that upload.onprogress can fill its <progress>;
// without JavaScript the same form posts to its own action and works, without the bar.
"use strict";

document.addEventListener("submit", function (ev) {
  var form = ev.target;
  var api = form.getAttribute && form.getAttribute("data-upload");
  if (!api || ev.defaultPrevented || !window.FormData) {
    return;
  }
  ev.preventDefault();
  var data = new FormData(form);
  // The API takes no customer for a global image, never an empty one.
  if (data.get("customer") === "") {
    data.delete("customer");
  }
  // The file must be the form's last part: move it there whatever the markup's order.
  var file = data.get("file");
  data.delete("file");
  data.append("file", file);
  var bar = form.querySelector("progress");
  var status = document.getElementById("upload-status");
  var button = form.querySelector("button[type=submit]");
  var say = function (text, isError) {
    if (!status) { return; }
    status.textContent = "";
    var p = document.createElement("p");
    p.textContent = text;
    if (isError) { p.className = "error"; }
    status.appendChild(p);
  };
  var xhr = new XMLHttpRequest();
  xhr.open("POST", api);
  xhr.setRequestHeader("Accept", "application/json");
  if (bar) {
    bar.hidden = false;
    bar.value = 0;
    bar.textContent = "0%";
  }
  xhr.upload.onprogress = function (e) {
    if (bar && e.lengthComputable) {
      bar.value = Math.round((e.loaded / e.total) * 100);
      bar.textContent = bar.value + "%";
    }
  };
  xhr.onload = function () {
    if (xhr.status === 201) {
      if (bar) { bar.value = 100; bar.textContent = "100%"; }
      say("Uploaded.", false);
      window.location.assign(form.getAttribute("data-done") || window.location.pathname);
      return;
    }
    var msg = "The upload failed (" + xhr.status + ").";
    try {
      var body = JSON.parse(xhr.responseText);
      msg = body.error || msg;
      if (body.fields) {
        Object.keys(body.fields).forEach(function (k) { msg += " " + k + ": " + body.fields[k]; });
      }
    } catch (ignored) { /* not JSON: keep the status */ }
    say(msg, true);
    if (button) { button.disabled = false; }
  };
  xhr.onerror = function () {
    say("The upload failed: the connection was lost.", true);
    if (button) { button.disabled = false; }
  };
  if (button) { button.disabled = true; }
  say("Uploading…", false);
  xhr.send(data);
});
