/* Map of one establishment (Leaflet, bundled). Reads its data from the element's attributes:
   data-lat, data-lon, data-label, data-tiles (URL template, empty = no background tiles).
   The label (the establishment's name, from published files) is shown as text (dom.js). */
(function () {
  "use strict";
  var dom = window.ecartoDom;
  function init(el) {
    var lat = parseFloat(el.dataset.lat), lon = parseFloat(el.dataset.lon);
    if (isNaN(lat) || isNaN(lon) || typeof L === "undefined") { return; }
    var map = L.map(el, { scrollWheelZoom: false }).setView([lat, lon], 15);
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    var label = el.dataset.label || "";
    L.circleMarker([lat, lon], { radius: 9, color: "#1b4f72", weight: 3, fillColor: "#3182bd", fillOpacity: 0.9 })
      .addTo(map).bindTooltip(function () { return dom.textNode(label); }, { permanent: false });
    L.control.scale({ imperial: false }).addTo(map);
    el.setAttribute("data-map-ready", "true");
  }
  document.querySelectorAll("[data-ecarto-map]").forEach(init);
})();
