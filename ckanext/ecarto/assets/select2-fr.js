/* Select2 (CKAN's tag, organisation and user pickers) in French: its defaults hold the strings
   that CKAN's autocomplete module does not pass, among them the aria-label of the search field
   ("Search"). Loaded after CKAN's vendor bundle. */
(function ($) {
  "use strict";
  if (!$ || !$.fn || !$.fn.select2 || !$.fn.select2.defaults) { return; }
  function plural(n, word) { return n + " " + word + (n > 1 ? "s" : ""); }
  $.fn.select2.defaults.set("language", {
    errorLoading: function () { return "Les résultats n’ont pas pu être chargés."; },
    inputTooLong: function (args) { return "Supprimez " + plural(args.input.length - args.maximum, "caractère"); },
    inputTooShort: function (args) { return "Saisissez au moins " + plural(args.minimum - args.input.length, "caractère"); },
    loadingMore: function () { return "Chargement de résultats supplémentaires…"; },
    maximumSelected: function (args) { return "Vous pouvez choisir au plus " + plural(args.maximum, "élément"); },
    noResults: function () { return "Aucun résultat"; },
    searching: function () { return "Recherche…"; },
    removeAllItems: function () { return "Tout retirer"; },
    removeItem: function () { return "Retirer"; },
    search: function () { return "Rechercher"; }
  });
}(window.jQuery));
