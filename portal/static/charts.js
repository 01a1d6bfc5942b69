// Draws each chart of the page with plotly.js (served by the portal from the installed plotly package).
// The figure is data next to its element: <div data-figure="ID"> and <script type="application/json" id="ID">,
// so the page needs no inline script.
"use strict";
document.querySelectorAll("[data-figure]").forEach(function (element) {
  var figure = JSON.parse(document.getElementById(element.dataset.figure).textContent);
  Plotly.newPlot(element, figure.data, figure.layout, {responsive: true, displaylogo: false});
});
