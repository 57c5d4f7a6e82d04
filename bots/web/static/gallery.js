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
  function poll(url, status, button) {
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (task) {
      if (task.state === "running") { setTimeout(function () { poll(url, status, button); }, 1500); return; }
      button.disabled = false;
      var ok = task.state === "done";
      status.className = "status " + (ok ? "ok" : "bad");
      status.textContent = ok
        ? (task.posted ? root.dataset.posted : root.dataset.here) + " " + task.cost
        : root.dataset.jobFailed + " " + task.message;
      if (ok && !task.posted) {
        task.images.forEach(function (src) {
          var link = document.createElement("a");
          link.href = src; link.target = "_blank"; link.rel = "noopener"; link.textContent = src.split("/").pop();
          status.appendChild(document.createTextNode(" ")); status.appendChild(link);
        });
      }
    });
  }

  // Re-roll: the same request again, a new job charged to you; the result goes to your chat.
  root.querySelectorAll("button.reroll").forEach(function (button) {
    button.addEventListener("click", function () {
      var status = button.closest(".card").querySelector(".status");
      button.disabled = true;
      var form = Date.now().toString(36) + Math.random().toString(36).slice(2);
      fetch("/api/reroll/" + encodeURIComponent(button.dataset.job), {
        method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf, "X-Form-Id": form }
      }).then(function (r) { return r.json().then(function (d) { return { status: r.status, data: d }; }); })
        .then(function (answer) {
          if (answer.status !== 202) {
            button.disabled = false;
            status.className = "status bad";
            status.textContent = answer.data.error || root.dataset.failed;
            return;
          }
          status.className = "status";
          status.textContent = root.dataset.working;
          poll("/api/tasks/" + answer.data.task, status, button);
        });
    });
  });

  // My settings: post the changed choices; the service checks them against the catalog.
  var settings = document.getElementById("settings-form");
  if (settings) {
    var box = document.getElementById("settings");
    settings.addEventListener("submit", function (event) {
      event.preventDefault();
      var status = settings.querySelector(".status");
      var changed = {};
      settings.querySelectorAll("select").forEach(function (select) {
        if (select.value !== select.dataset.current) { changed[select.name] = select.value; }
      });
      fetch("/api/settings", {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
        body: JSON.stringify(changed)
      }).then(function (r) { return r.json(); }).then(function (answer) {
        status.className = "status " + (answer.ok ? "ok" : "bad");
        status.textContent = answer.ok ? answer.saved : (answer.error || box.dataset.failed);
        if (answer.ok) {
          settings.querySelectorAll("select").forEach(function (select) { select.dataset.current = select.value; });
        }
      }).catch(function () {
        status.className = "status bad";
        status.textContent = box.dataset.failed;
      });
    });
  }
}());
