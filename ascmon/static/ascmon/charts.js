// Draw every plotly figure on the page: <div data-figure="ID"> reads its JSON from <script id="ID">.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-figure]").forEach(function (element) {
    var source = document.getElementById(element.dataset.figure);
    if (!source || typeof Plotly === "undefined") return;
    var figure = JSON.parse(source.textContent);
    Plotly.newPlot(element, figure.data, figure.layout, {responsive: true, displaylogo: false}).then(function () {
      element.setAttribute("data-drawn", "true");
    });
  });
});
