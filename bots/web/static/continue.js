// Link pages submit themselves: a chat app's link preview fetches the page (GET) but never
// posts the form, so it cannot use up the one-time link.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("continue");
  if (form) { form.submit(); }
});
