"""Reports and figures: pedigree drawings (SVG), charts, the identification and accounting reports
(HTML, PDF through WeasyPrint, CSV). Heavy imports (matplotlib, WeasyPrint) happen on use."""
