/* Dataset form: show only the section of the chosen axis (fieldsets tagged data-ecarto-axe by
   templates/scheming/package/snippets/package_form.html). Without JavaScript every section stays
   visible and the server keeps only the chosen axis's values. */
(function () {
  function init() {
    var select = document.getElementById('field-axe');
    if (!select) { return; }
    function show() {
      document.querySelectorAll('.ecarto-axe-section').forEach(function (section) {
        section.hidden = section.getAttribute('data-ecarto-axe') !== select.value;
      });
    }
    select.addEventListener('change', show);
    show();
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
