/* DOM building for the portal's scripts: values from the data (names, labels, units, categories
   of files any publisher uploads) always reach the page as text, never as HTML.

   ecartoDom.el(tag, options, children): an element; options.text sets textContent,
     options.className, options.style (an object of CSS properties, set through the CSSOM),
     options.attrs (attributes; event handlers and href are refused, use options.href);
     options.href is set only if `safeHref` accepts it. children: nodes or strings (as text).
   ecartoDom.textNode(value): a <span> holding the value as text, for Leaflet's bindTooltip /
     bindPopup (given a function returning a node, Leaflet appends it instead of parsing HTML).
   ecartoDom.safeHref(url): the URL if it is a path of this site ("/…", not "//…") or an
     http(s) URL; null otherwise (javascript:, data:, vbscript:…).
   ecartoDom.go(url): navigates to the URL if `safeHref` accepts it.
   ecartoDom.clear(node): removes every child. */
(function () {
  "use strict";

  function safeHref(url) {
    if (url === null || url === undefined) { return null; }
    var text = String(url);
    if (/^\/(?![\/\\])/.test(text)) { return text; }
    if (/^https?:\/\//i.test(text)) { return text; }
    return null;
  }

  function append(node, child) {
    if (child === null || child === undefined || child === false) { return; }
    node.appendChild(typeof child === "object" && child.nodeType ? child : document.createTextNode(String(child)));
  }

  function el(tag, options, children) {
    var node = document.createElement(tag);
    var opts = options || {};
    if (opts.className) { node.className = opts.className; }
    if (opts.text !== undefined && opts.text !== null) { node.textContent = String(opts.text); }
    if (opts.style) {
      Object.keys(opts.style).forEach(function (k) { node.style[k] = opts.style[k]; });
    }
    if (opts.attrs) {
      Object.keys(opts.attrs).forEach(function (name) {
        if (/^on/i.test(name) || /^(href|src|srcdoc|style)$/i.test(name)) { return; }
        node.setAttribute(name, String(opts.attrs[name]));
      });
    }
    if (opts.href !== undefined) {
      var href = safeHref(opts.href);
      if (href !== null) { node.setAttribute("href", href); }
    }
    (children || []).forEach(function (child) { append(node, child); });
    return node;
  }

  function textNode(value) {
    return el("span", { text: value === null || value === undefined ? "" : value });
  }

  function go(url) {
    var href = safeHref(url);
    if (href !== null) { window.location.href = href; }
  }

  function clear(node) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
  }

  window.ecartoDom = { el: el, textNode: textNode, safeHref: safeHref, go: go, clear: clear };
})();
