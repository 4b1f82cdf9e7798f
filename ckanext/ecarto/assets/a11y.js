/* Links that CKAN uses as buttons (href="#" opening a menu or unfolding a table: the
   « Explorer » menu of a resource, « Montrer plus / moins » of the additional information)
   are announced as buttons and answer the Space key like one (RGAA 7.1). Included on every
   page by templates/base.html; the table toggles are added by CKAN's modules after the page
   loads, hence the observer. */
(function () {
  "use strict";
  var SELECTOR = 'a.show-more, a.show-less, a[href="#"][data-bs-toggle], a[href="#"][data-toggle]';

  function markButtons(root) {
    if (!root.querySelectorAll) return;
    if (root.matches && root.matches(SELECTOR) && !root.hasAttribute("role")) root.setAttribute("role", "button");
    root.querySelectorAll(SELECTOR).forEach(function (link) {
      if (!link.hasAttribute("role")) link.setAttribute("role", "button");
    });
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === " " && target && target.matches && target.matches(SELECTOR)) {
      event.preventDefault();
      target.click();
    }
  });

  function start() {
    markButtons(document);
    new MutationObserver(function (mutations) {
      mutations.forEach(function (mutation) {
        mutation.addedNodes.forEach(function (node) { if (node.nodeType === 1) markButtons(node); });
      });
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
