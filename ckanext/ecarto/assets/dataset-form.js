/* Dataset form: show only the section of the chosen axis (fieldsets tagged data-ecarto-axe by
   templates/scheming/package/snippets/package_form.html), and only the chosen axis's schema and
   templates links (form_snippets/ecarto_axe.html; all of them while no axis is chosen). Without JavaScript every section stays
   visible and the server keeps only the chosen axis's values.
   Also gives CKAN's select2 widgets (tags) the name of their field's label, which select2 does not
   pass on to its combobox (RGAA 11.1 / WCAG 4.1.2). */
(function () {
  function toggleAxisSections() {
    var select = document.getElementById('field-axe');
    if (!select) { return; }
    function show() {
      document.querySelectorAll('.ecarto-axe-section').forEach(function (section) {
        section.hidden = section.getAttribute('data-ecarto-axe') !== select.value;
      });
      // schema and templates: every axis's line until one is chosen, then the chosen one's
      document.querySelectorAll('[data-ecarto-axe-templates]').forEach(function (line) {
        line.hidden = Boolean(select.value) && line.getAttribute('data-ecarto-axe-templates') !== select.value;
      });
    }
    select.addEventListener('change', show);
    show();
  }

  function nameSelect2Widgets() {
    document.querySelectorAll('.select2-container').forEach(function (container) {
      var original = container.previousElementSibling;
      var selection = container.querySelector('.select2-selection');
      if (!original || !original.id || !selection || selection.hasAttribute('aria-label')) { return; }
      var label = document.querySelector('label[for="' + CSS.escape(original.id) + '"]');
      if (label) {
        selection.setAttribute('aria-label', label.textContent.replace(/\s+/g, ' ').trim());
      }
    });
  }

  function init() {
    toggleAxisSections();
    nameSelect2Widgets();
    new MutationObserver(nameSelect2Widgets).observe(document.body, {childList: true, subtree: true});
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
