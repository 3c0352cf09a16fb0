// Change report on the tablet: once a household is chosen, offer only its own members.
(function () {
  var form = document.getElementById("change-report-form");
  if (!form) { return; }
  var household = form.querySelector("select[name=household]");
  var member = form.querySelector("select[name=member]");
  var show = function () {
    Array.prototype.forEach.call(member.options, function (option) {
      var mine = !option.dataset.household || option.dataset.household === household.value;
      option.hidden = !mine;
      option.disabled = !mine;
      if (!mine && option.selected) { member.value = ""; }
    });
  };
  household.addEventListener("change", show);
  show();
})();
