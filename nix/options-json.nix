# Every option the Honeybot modules declare, as JSON, for scripts/gen-options-doc.sh.
# Evaluates ../modules with the module system of a NixOS source tree (`lib/` is enough) and a
# minimal stand-in for the package set: option declarations never need real packages, since
# every default that would name one has a `defaultText`.
{ nixpkgs }:
let
  lib = import (nixpkgs + "/lib");
  pkgs = {
    formats.toml = _: {
      # The real format type describes itself the same way.
      type = lib.types.attrsOf lib.types.anything // { description = "TOML value"; };
      generate = name: _: name;
    };
    callPackage = _: _: { };
  };
  eval = lib.evalModules {
    modules = [
      ../modules
      {
        _module.check = false;
        _module.args.pkgs = pkgs;
      }
    ];
  };
  root = toString ../.;
  ours = o: lib.any (p: lib.hasPrefix p o.name) [ "services.honeybot." "programs.ai-commit." ];
  render = v:
    if v == null then null
    else if v._type or null == "literalExpression" then v.text
    else if v._type or null == "literalMD" then v.text
    else builtins.toJSON v;
in
map
  (o: {
    inherit (o) name description type;
    default = render (o.default or null);
    example = render (o.example or null);
    declarations = map (d: lib.removePrefix "${root}/" (toString d)) o.declarations;
  })
  (lib.filter (o: ours o && o.visible && !o.internal) (lib.optionAttrSetToDocList eval.options))
