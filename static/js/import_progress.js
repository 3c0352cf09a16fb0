// Import pages: poll the batch's status while it is checked or imported, reload when done;
// offer the one-time password table as a CSV download built in the browser.
(function () {
  var box = document.getElementById("import-progress");
  if (box) {
    var bar = box.querySelector("progress");
    var percent = box.querySelector("[data-role=percent]");
    var poll = function () {
      fetch(box.dataset.statusUrl, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          bar.value = s.progress;
          percent.textContent = s.progress;
          document.getElementById("import-state").textContent = s.state_label;
          if (s.done) { window.location.reload(); } else { setTimeout(poll, 1500); }
        })
        .catch(function () { setTimeout(poll, 5000); });
    };
    setTimeout(poll, 1000);
  }
  var button = document.getElementById("issued-download");
  if (button) {
    button.addEventListener("click", function () {
      var rows = Array.prototype.map.call(
        document.querySelectorAll("#issued-table tr"),
        function (tr) {
          return Array.prototype.map.call(tr.children, function (td) {
            return '"' + td.textContent.replace(/"/g, '""') + '"';
          }).join(",");
        }
      );
      var blob = new Blob(["\ufeff" + rows.join("\r\n")], { type: "text/csv;charset=utf-8" });
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "初始密码.csv";
      link.click();
    });
  }
})();
