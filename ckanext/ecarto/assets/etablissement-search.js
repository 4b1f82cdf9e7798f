/* Autocomplete of the establishment search box: suggestions from /etablissement/autocomplete. */
(function () {
  "use strict";
  var input = document.querySelector("[data-ecarto-autocomplete]");
  if (!input) { return; }
  var list = document.getElementById(input.getAttribute("list"));
  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    var q = input.value.trim();
    if (q.length < 2) { return; }
    timer = setTimeout(function () {
      fetch(input.dataset.ecartoAutocomplete + "?q=" + encodeURIComponent(q))
        .then(function (r) { return r.json(); })
        .then(function (items) {
          list.innerHTML = "";
          items.forEach(function (it) {
            var opt = document.createElement("option");
            opt.value = it.uai;
            opt.textContent = (it.nom || "") + " — " + (it.commune || "") + " (" + it.uai + ")";   // text, never HTML
            list.appendChild(opt);
          });
        });
    }, 200);
  });
})();
