// The application form's member rows: add a row for each further household member, remove one.
// Plain script (no framework); without it the form still sends the rows already shown.
(function () {
  "use strict";
  var rows = document.querySelector("[data-member-rows]");
  var add = document.querySelector("[data-add-member]");
  var template = document.getElementById("member-row-template");
  if (!rows || !add || !template) return;
  var next = parseInt(add.getAttribute("data-next"), 10) || 100;
  add.addEventListener("click", function () {
    var html = template.innerHTML.replace(/__i__/g, String(next));
    next += 1;
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    rows.appendChild(row);
    var first = row.querySelector("input[type=text]");
    if (first) first.focus();
  });
  rows.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-member]");
    if (!button) return;
    var row = button.closest("[data-member-row]");
    if (row) row.remove();
  });
})();
