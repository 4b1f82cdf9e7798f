/* Resource view "Carte des établissements": the establishments of a resource with a UAI column,
   coloured by a chosen column (classes for numbers, categories otherwise). Leaflet, bundled.
   Column labels, categories and names come from published files: shown as text only (dom.js). */
(function () {
  "use strict";
  var dom = window.ecartoDom;
  var PALETTE = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];
  var CATEGORIES = ["#1b4f72", "#c9191e", "#1f8d49", "#f4a261", "#6a4c93", "#2a9d8f", "#e76f51", "#8d6e63"];

  function fmt(v) { return typeof v === "number" ? v.toLocaleString("fr-FR", { maximumFractionDigits: 2 }) : String(v); }

  function colourFor(legend, value) {
    if (value === null || value === undefined) { return "#bbbbbb"; }
    if (legend.type === "classes") {
      for (var i = 0; i < legend.classes.length; i++) { if (value <= legend.classes[i]) { return PALETTE[Math.round(i * (PALETTE.length - 1) / Math.max(legend.classes.length - 1, 1))]; } }
      return PALETTE[PALETTE.length - 1];
    }
    var index = (legend.categories || []).indexOf(String(value));
    return index < 0 ? "#666666" : CATEGORIES[index % CATEGORIES.length];
  }

  function item(colour, round, text) {
    return dom.el("li", {}, [dom.el("span", { className: "ecarto-swatch" + (round ? " ecarto-swatch-round" : ""),
      style: { background: colour } }), text]);
  }

  function drawLegend(el, data) {
    var legend = data.legende || {}, items = [];
    if (legend.type === "classes") {
      var lower = null;
      legend.classes.forEach(function (upper) {
        items.push(item(colourFor(legend, upper), false, lower === null ? "≤ " + fmt(upper) : "> " + fmt(lower) + " à " + fmt(upper)));
        lower = upper;
      });
    } else if (legend.type === "categories") {
      legend.categories.forEach(function (c) { items.push(item(colourFor(legend, c), true, c)); });
      items.push(item("#666666", true, "autres valeurs"));
    }
    items.push(item("#bbbbbb", true, "n.c."));
    dom.clear(el);
    el.appendChild(dom.el("h3", { className: "ecarto-legend-title", text: data.colonne ? data.colonne.label : "" }));
    el.appendChild(dom.el("ol", { className: "ecarto-legend-classes" }, items));
    el.appendChild(dom.el("p", { className: "small",
      text: data.n_localises + " établissements placés sur " + data.n_lignes_uai + " UAI de la ressource." }));
  }

  function init(el) {
    if (typeof L === "undefined") { return; }
    var root = el.closest(".ecarto-carte-uai");
    var select = root.querySelector("[data-carte-uai-colonne]");
    var legendEl = root.querySelector("[data-carte-uai-legend]");
    var form = root.querySelector("form");
    if (form) { form.addEventListener("submit", function (ev) { ev.preventDefault(); }); }
    var map = L.map(el, { scrollWheelZoom: false }).setView([46.6, 2.4], 5);
    L.control.scale({ imperial: false }).addTo(map);
    var layer = null, fitted = false;
    function load() {
      var colonne = select && select.value ? select.value : el.dataset.colonne;
      fetch(el.dataset.url + (colonne ? "?colonne=" + encodeURIComponent(colonne) : "")).then(function (r) { return r.json(); }).then(function (data) {
        if (layer) { map.removeLayer(layer); }
        layer = L.featureGroup();
        (data.points || []).forEach(function (pt) {
          var m = L.circleMarker([pt.latitude, pt.longitude], { radius: 5, weight: 1, color: "#fff", fillOpacity: 0.9,
            fillColor: colourFor(data.legende || {}, pt.valeur), className: "ecarto-point" });
          var label = pt.nom + " (" + pt.uai + ") : " + (pt.valeur === null ? "n.c." : fmt(pt.valeur));
          m.bindTooltip(function () { return dom.textNode(label); });
          m.on("click", function () { dom.go("/etablissement/" + encodeURIComponent(pt.uai)); });
          layer.addLayer(m);
        });
        layer.addTo(map);
        if (!fitted && layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [8, 8] }); fitted = true; }
        if (legendEl) { drawLegend(legendEl, data); }
        el.setAttribute("data-map-ready", "true");
      });
    }
    if (select) { select.addEventListener("change", load); }
    load();
  }
  document.querySelectorAll("[data-ecarto-carte-uai]").forEach(init);
})();
