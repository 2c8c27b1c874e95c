// Search results show a snippet of each page's text around the word searched. Sphinx takes it
// from the page's HTML, where formulas are still TeX source (MathJax typesets them only on the
// page itself) and folded solutions are plain text. This shows "[formula]" in place of each
// formula, and leaves the solutions and the page's table of contents (printed copy and sidebar)
// out of the snippets, before Sphinx takes its text.
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Search === "undefined" || typeof Search.htmlToText !== "function") return;
  const htmlToText = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const page = new DOMParser().parseFromString(htmlString, "text/html");
    page.querySelectorAll(".math").forEach((formula) => formula.replaceWith(page.createTextNode("[formula]")));
    page.querySelectorAll(".solution, .onlyprint, .bd-sidebar-secondary").forEach((part) => part.remove());
    return htmlToText(page.documentElement.outerHTML, anchor);
  };
});
