/* Resource view "Carte des établissements": the establishments of a resource with a UAI column,
   coloured by a chosen column (classes for numbers, categories otherwise). Leaflet, bundled. */
(function () {
  "use strict";
  var PALETTE = ["#e3e3fd", "#b1b1f9", "#7b7bee", "#4b4bd6", "#000091"];
  var CATEGORIES = ["#000091", "#c9191e", "#1f8d49", "#f4a261", "#6a4c93", "#2a9d8f", "#e76f51", "#8d6e63"];

  function esc(text) { var d = document.createElement("div"); d.textContent = text === null || text === undefined ? "" : String(text); return d.innerHTML; }
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

  function drawLegend(el, data) {
    var legend = data.legende || {}, html = "<h3 class=\"ecarto-legend-title\">" + esc(data.colonne ? data.colonne.label : "") + "</h3><ol class=\"ecarto-legend-classes\">";
    if (legend.type === "classes") {
      var lower = null;
      legend.classes.forEach(function (upper) {
        html += "<li><span class=\"ecarto-swatch\" style=\"background:" + colourFor(legend, upper) + "\"></span>" + (lower === null ? "≤ " + fmt(upper) : "> " + fmt(lower) + " à " + fmt(upper)) + "</li>";
        lower = upper;
      });
    } else if (legend.type === "categories") {
      legend.categories.forEach(function (c) { html += "<li><span class=\"ecarto-swatch ecarto-swatch-round\" style=\"background:" + colourFor(legend, c) + "\"></span>" + esc(c) + "</li>"; });
      html += "<li><span class=\"ecarto-swatch ecarto-swatch-round\" style=\"background:#666666\"></span>autres valeurs</li>";
    }
    html += "<li><span class=\"ecarto-swatch ecarto-swatch-round\" style=\"background:#bbbbbb\"></span>n.c.</li></ol>";
    html += "<p class=\"small\">" + data.n_localises + " établissements placés sur " + data.n_lignes_uai + " UAI de la ressource.</p>";
    el.innerHTML = html;
  }

  function init(el) {
    if (typeof L === "undefined") { return; }
    var root = el.closest(".ecarto-carte-uai");
    var select = root.querySelector("[data-carte-uai-colonne]");
    var legendEl = root.querySelector("[data-carte-uai-legend]");
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
          m.bindTooltip(esc(pt.nom + " (" + pt.uai + ") : " + (pt.valeur === null ? "n.c." : fmt(pt.valeur))));
          m.on("click", function () { window.location.href = "/etablissement/" + pt.uai; });
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
