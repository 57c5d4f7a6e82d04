// Admin dashboard: bar charts drawn as plain SVG from the bot's JSON, sortable tables, and the
// admin forms (sent as JSON with the session's CSRF token; the server validates every value).
"use strict";
(function () {
  var root = document.getElementById("dashboard");
  if (!root) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var SVG = "http://www.w3.org/2000/svg";

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function niceMax(value) {
    if (value <= 0) { return 1; }
    var step = Math.pow(10, Math.floor(Math.log10(value)));
    var n = value / step;
    return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * step;
  }

  function barChart(box, days, value, format, whole) {
    var W = 600, H = 220, L = 48, B = 28, T = 10, R = 8;
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img" });
    var highest = Math.max.apply(null, days.map(value).concat([0]));
    // whole numbers (images): four gridlines on whole values
    var top = whole ? Math.max(4, Math.ceil(highest / 4) * 4) : niceMax(highest);
    var plotW = W - L - R, plotH = H - T - B;
    var slot = plotW / days.length;
    for (var g = 0; g <= 4; g++) {
      var y = T + plotH - plotH * g / 4;
      svg.appendChild(el("line", { x1: L, x2: W - R, y1: y, y2: y, "class": "axis" }));
      svg.appendChild(el("text", { x: L - 4, y: y + 3, "text-anchor": "end" }, format(top * g / 4)));
    }
    days.forEach(function (d, i) {
      var h = plotH * value(d) / top;
      var bar = el("rect", {
        x: L + i * slot + slot * 0.15, y: T + plotH - h, width: slot * 0.7, height: Math.max(h, 0),
        "class": "bar", "data-day": d.day, "data-value": String(value(d))
      });
      bar.appendChild(el("title", {}, d.day + ": " + format(value(d))));
      svg.appendChild(bar);
      if (i % 5 === 0 || i === days.length - 1) {
        svg.appendChild(el("text", { x: L + i * slot + slot / 2, y: H - 8, "text-anchor": "middle" }, d.day.slice(5)));
      }
    });
    box.textContent = "";
    box.appendChild(svg);
  }

  function loadCharts() {
    fetch("/api/dashboard/daily", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      var spend = document.getElementById("chart-spend");
      var images = document.getElementById("chart-images");
      if (spend) {
        barChart(spend, data.days, function (d) { return d.cost_micros / 1e6; }, function (v) { return "$" + v.toFixed(v < 1 ? 3 : 2); });
      }
      if (images) {
        barChart(images, data.days, function (d) { return d.images; }, function (v) { return String(Math.round(v)); }, true);
      }
      root.dataset.chartsReady = "1";
    });
  }

  function sortable(table) {
    table.querySelectorAll("th button.sort").forEach(function (button, column) {
      button.addEventListener("click", function () {
        var dir = button.dataset.dir === "desc" ? "asc" : "desc";
        table.querySelectorAll("th button.sort").forEach(function (b) { delete b.dataset.dir; });
        button.dataset.dir = dir;
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var numeric = button.dataset.type === "num";
        rows.sort(function (a, b) {
          var x = a.cells[column].dataset.value || a.cells[column].textContent;
          var y = b.cells[column].dataset.value || b.cells[column].textContent;
          var c = numeric ? Number(x) - Number(y) : x.localeCompare(y);
          return dir === "asc" ? c : -c;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  function wireForm(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var status = form.querySelector(".status");
      var data = {};
      new FormData(form).forEach(function (v, k) { data[k] = v; });
      if (event.submitter && event.submitter.name) { data[event.submitter.name] = event.submitter.value; }
      fetch(form.getAttribute("action"), {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(data)
      }).then(function (r) { return r.json(); }).then(function (answer) {
        status.textContent = answer.ok ? root.dataset.saved : root.dataset.error + " " + answer.error;
        status.className = "status " + (answer.ok ? "ok" : "bad");
        if (answer.ok && form.dataset.reload) { setTimeout(function () { window.location.reload(); }, 600); }
      }).catch(function () {
        status.textContent = root.dataset.error;
        status.className = "status bad";
      });
    });
  }

  root.querySelectorAll("table.sortable").forEach(sortable);
  root.querySelectorAll("form.admin").forEach(wireForm);
  loadCharts();
}());
