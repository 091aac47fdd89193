// 本期填报: each row's totals follow the amount as it is typed (not only once saved), and the 全选 box.
(function () {
  function number(text) {
    var n = parseFloat(String(text || "").replace(/[,，\s]/g, "").replace(/[０-９．]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
    }));
    return isNaN(n) ? 0 : n;
  }
  function money(n) { return n.toLocaleString("zh-CN", {minimumFractionDigits: 2, maximumFractionDigits: 2}); }
  function update(row) {
    var input = row.querySelector("input.kp-amount");
    if (!input) return;
    var amount = number(input.value);
    row.querySelector(".kp-ytd").textContent = money(number(row.dataset.ytd) + amount);
    row.querySelector(".kp-since").textContent = money(number(row.dataset.since) + amount);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("tr.kp-round-row").forEach(function (row) {
      var input = row.querySelector("input.kp-amount");
      if (input) { input.addEventListener("input", function () { update(row); }); update(row); }
    });
    var all = document.getElementById("kp-select-all");
    if (all) all.addEventListener("change", function () {
      document.querySelectorAll("input[name=select]").forEach(function (box) { box.checked = all.checked; });
    });
  });
})();
