// Cell renderers for the AG Grids: a customer id links to its page, as text.
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

dagcomponentfuncs.CustomerLink = function (props) {
  if (props.value === undefined || props.value === null) { return null; }
  var id = String(props.value);
  return React.createElement("a", { href: "/customers/" + encodeURIComponent(id) }, id);
};
