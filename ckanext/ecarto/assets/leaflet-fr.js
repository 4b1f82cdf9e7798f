/* Leaflet's own controls in French (zoom buttons, attribution prefix): loaded right after
   leaflet.js in the `leaflet-js` bundle, before any map of the portal is built. */
(function (L) {
  "use strict";
  if (!L) { return; }
  L.Control.Zoom.prototype.options.zoomInTitle = "Zoom avant";
  L.Control.Zoom.prototype.options.zoomOutTitle = "Zoom arrière";
  L.Control.Attribution.prototype.options.prefix =
    '<a href="https://leafletjs.com" title="Bibliothèque JavaScript de cartes interactives">Leaflet</a>';
}(window.L));
