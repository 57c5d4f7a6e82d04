// The mask painter of "Edit region": brush, eraser, size, undo/redo, zoom; mouse, pen and touch
// through pointer events. Strokes are kept in image pixels and redrawn on a canvas the size of
// the image; on submit they become the API mask: a PNG of the image's size, opaque everywhere
// except where the user painted (alpha 0 = the area to change).
"use strict";
(function () {
  var root = document.getElementById("editor");
  var source = document.getElementById("source");
  var canvas = document.getElementById("paint");
  if (!root || !source || !canvas) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var ctx = canvas.getContext("2d");
  var stage = document.getElementById("stage");
  var layers = document.getElementById("layers");
  var size = document.getElementById("size");
  var sizeValue = document.getElementById("size-value");
  var undoButton = document.getElementById("undo");
  var redoButton = document.getElementById("redo");
  var status = document.getElementById("status");
  var resultBox = document.getElementById("result");
  var submit = document.getElementById("submit");
  var strokes = [];
  var undone = [];
  var current = null;
  var tool = "brush";
  var zoom = 1;
  var PAINT = "rgb(255, 40, 120)";
  var colour = document.getElementById("colour") || { value: PAINT };

  // "mask": the painted area is what changes; "sketch" (models with a markup input): the strokes,
  // in their colours on a transparent layer, are sent as guidance drawn over the image.
  function mode() {
    var picked = document.querySelector('input[name="mode"]:checked');
    return picked ? picked.value : "mask";
  }
  document.querySelectorAll('input[name="mode"]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      root.dataset.mode = mode();
      canvas.classList.toggle("sketch", mode() === "sketch");
    });
  });

  function say(text) { status.textContent = text; }

  function drawStroke(stroke) {
    ctx.save();
    ctx.globalCompositeOperation = stroke.tool === "eraser" ? "destination-out" : "source-over";
    ctx.strokeStyle = stroke.color || PAINT;
    ctx.fillStyle = stroke.color || PAINT;
    ctx.lineWidth = stroke.size;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    var pts = stroke.points;
    if (pts.length === 1) {
      ctx.beginPath();
      ctx.arc(pts[0][0], pts[0][1], stroke.size / 2, 0, Math.PI * 2);
      ctx.fill();
    } else {
      ctx.beginPath();
      ctx.moveTo(pts[0][0], pts[0][1]);
      for (var i = 1; i < pts.length; i++) { ctx.lineTo(pts[i][0], pts[i][1]); }
      ctx.stroke();
    }
    ctx.restore();
  }

  function redraw() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    strokes.forEach(drawStroke);
    if (current) { drawStroke(current); }
    undoButton.disabled = strokes.length === 0;
    redoButton.disabled = undone.length === 0;
  }

  function applyZoom() {
    layers.style.width = Math.round(canvas.width * zoom) + "px";
    layers.style.height = Math.round(canvas.height * zoom) + "px";
  }

  function fit() {
    var room = stage.clientWidth || canvas.width;
    zoom = Math.min(1, room / canvas.width);
    applyZoom();
  }

  function at(event) {
    var box = canvas.getBoundingClientRect();
    return [
      (event.clientX - box.left) * canvas.width / box.width,
      (event.clientY - box.top) * canvas.height / box.height
    ];
  }

  function start() {
    canvas.width = source.naturalWidth;
    canvas.height = source.naturalHeight;
    root.dataset.width = String(canvas.width);
    root.dataset.height = String(canvas.height);
    fit();
    redraw();
    root.dataset.ready = "1";
  }

  canvas.addEventListener("pointerdown", function (event) {
    if (event.button !== 0 && event.pointerType === "mouse") { return; }
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    current = {
      tool: tool, size: Number(size.value), color: mode() === "sketch" ? colour.value : PAINT,
      points: [at(event)], pointer: event.pointerId
    };
    redraw();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!current || current.pointer !== event.pointerId) { return; }
    event.preventDefault();
    var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    if (events.length === 0) { events = [event]; }
    events.forEach(function (e) { current.points.push(at(e)); });
    redraw();
  });
  function finish(event) {
    if (!current || current.pointer !== event.pointerId) { return; }
    strokes.push({ tool: current.tool, size: current.size, color: current.color, points: current.points });
    undone = [];
    current = null;
    redraw();
  }
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);

  document.querySelectorAll("button.tool").forEach(function (button) {
    button.addEventListener("click", function () {
      tool = button.dataset.tool;
      document.querySelectorAll("button.tool").forEach(function (b) {
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
    });
  });
  size.addEventListener("input", function () { sizeValue.textContent = size.value; });
  undoButton.addEventListener("click", function () {
    if (strokes.length) { undone.push(strokes.pop()); redraw(); }
  });
  redoButton.addEventListener("click", function () {
    if (undone.length) { strokes.push(undone.pop()); redraw(); }
  });
  document.getElementById("clear").addEventListener("click", function () {
    if (strokes.length) { undone = strokes.reverse(); strokes = []; redraw(); }
  });
  document.getElementById("zoom-in").addEventListener("click", function () {
    zoom = Math.min(8, zoom * 1.25); applyZoom();
  });
  document.getElementById("zoom-out").addEventListener("click", function () {
    zoom = Math.max(0.1, zoom / 1.25); applyZoom();
  });
  document.getElementById("zoom-fit").addEventListener("click", fit);
  document.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey) || event.target.tagName === "TEXTAREA") { return; }
    if (event.key === "z" && !event.shiftKey) { undoButton.click(); event.preventDefault(); }
    if (event.key === "y" || (event.key === "z" && event.shiftKey)) { redoButton.click(); event.preventDefault(); }
  });

  // The API mask: same size as the image, alpha 0 where painted, 255 elsewhere (no soft edges).
  function maskBlob() {
    var painted = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    var out = document.createElement("canvas");
    out.width = canvas.width;
    out.height = canvas.height;
    var octx = out.getContext("2d");
    var image = octx.createImageData(canvas.width, canvas.height);
    var any = false;
    for (var i = 0; i < painted.length; i += 4) {
      var hit = painted[i + 3] >= 128;
      any = any || hit;
      image.data[i + 3] = hit ? 0 : 255;
    }
    octx.putImageData(image, 0, 0);
    return new Promise(function (resolve) {
      if (!any) { resolve(null); return; }
      out.toBlob(resolve, "image/png");
    });
  }

  // Sketch: the strokes themselves, full opacity, transparent elsewhere (the markup image).
  function markupBlob() {
    var painted = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    var any = false;
    for (var i = 3; i < painted.length && !any; i += 4) { any = painted[i] >= 128; }
    return new Promise(function (resolve) {
      if (!any) { resolve(null); return; }
      canvas.toBlob(resolve, "image/png");
    });
  }

  function poll(url) {
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (task) {
      if (task.state === "running") { setTimeout(function () { poll(url); }, 1500); return; }
      submit.disabled = false;
      root.dataset.state = task.state;
      if (task.state === "failed") { say(root.dataset.failed + " " + task.message); return; }
      var cost = task.cost ? " " + root.dataset.cost + ": " + task.cost : "";
      say((task.posted ? root.dataset.donePosted : root.dataset.doneHere) + cost);
      resultBox.textContent = "";
      task.images.forEach(function (src) {
        var img = document.createElement("img");
        img.src = src;
        img.alt = "";
        resultBox.appendChild(img);
      });
    }).catch(function () {
      submit.disabled = false;
      say(root.dataset.error);
    });
  }

  document.getElementById("edit-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var prompt = document.getElementById("prompt").value.trim();
    if (!prompt) { say(root.dataset.needPrompt); return; }
    var sketch = mode() === "sketch";
    (sketch ? markupBlob() : maskBlob()).then(function (blob) {
      if (!blob) { say(root.dataset.needPaint); return; }
      var body = new FormData();
      body.append("prompt", prompt);
      body.append("form", root.dataset.form);
      body.append("mode", sketch ? "sketch" : "mask");
      body.append(sketch ? "markup" : "mask", blob, sketch ? "markup.png" : "mask.png");
      submit.disabled = true;
      say(root.dataset.sending);
      return fetch("/api/edit/" + encodeURIComponent(root.dataset.job), {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf }
      }).then(function (r) {
        return r.json().then(function (data) { return { status: r.status, data: data }; });
      }).then(function (answer) {
        if (answer.status !== 202) {
          submit.disabled = false;
          say(answer.data.error || root.dataset.error);
          return;
        }
        say(root.dataset.working);
        poll("/api/tasks/" + answer.data.task);
      });
    }).catch(function () {
      submit.disabled = false;
      say(root.dataset.error);
    });
  });

  if (source.complete && source.naturalWidth) { start(); } else { source.addEventListener("load", start); }
  window.addEventListener("resize", function () { if (zoom < 1) { fit(); } });
}());
