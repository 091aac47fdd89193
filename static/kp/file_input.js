// config.uploads.ChooseFileInput: the chooser's status says what was picked ("已选N张：名称…"), in Chinese.
(function () {
  function update(input) {
    var status = input.closest(".kp-file").querySelector(".kp-file-status");
    var n = input.files ? input.files.length : 0;
    if (!n) { status.textContent = status.dataset.empty; status.title = ""; return; }
    var names = Array.prototype.map.call(input.files, function (f) { return f.name; }).join("、");
    status.textContent = status.dataset.chosen.replace("{n}", n);
    status.title = names;
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input.kp-file-input")) update(event.target);
  });
})();
