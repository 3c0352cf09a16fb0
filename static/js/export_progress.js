// Polls an export job until its file is ready, then shows the download link.
(function () {
  var box = document.getElementById("export");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        document.getElementById("export-state").textContent = job.state_label;
        document.getElementById("export-progress").value = job.progress;
        document.getElementById("export-percent").textContent = job.progress + "%";
        document.getElementById("export-error").textContent = job.error || "";
        if (job.download) {
          document.getElementById("export-download").hidden = false;
        } else if (job.state !== "failed") {
          setTimeout(poll, 1500);
        }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  poll();
})();
