# Helpers shared by the Honeybot modules.
{ lib, pkgs }:
{
  # The `package` option of a Honeybot program: defaults to this repository's build of it,
  # so the modules work without the flake (no specialArgs, no overlay needed).
  packageOption = name: description: lib.mkOption {
    type = lib.types.package;
    default = (pkgs.callPackage ../nix/programs.nix { }).${name};
    defaultText = lib.literalExpression "(pkgs.callPackage ./nix/programs.nix { }).${name}";
    inherit description;
  };
}
