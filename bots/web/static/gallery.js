// My images: "Post in my chat again" buttons (POST with the session's CSRF token).
"use strict";
(function () {
  var root = document.getElementById("gallery");
  if (!root) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  root.querySelectorAll("button.redeliver").forEach(function (button) {
    button.addEventListener("click", function () {
      var card = button.closest(".card");
      var status = card.querySelector(".status");
      button.disabled = true;
      fetch("/api/redeliver/" + encodeURIComponent(button.dataset.job), {
        method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf }
      }).then(function (r) { return r.json(); }).then(function (answer) {
        button.disabled = false;
        status.textContent = answer.ok ? root.dataset.done : (answer.error || root.dataset.failed);
        status.className = "status " + (answer.ok ? "ok" : "bad");
      }).catch(function () {
        button.disabled = false;
        status.textContent = root.dataset.failed;
        status.className = "status bad";
      });
    });
  });
}());
