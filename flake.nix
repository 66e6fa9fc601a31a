{
  description = "Honeybot: a self-hosted web head that watches itself";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      programs = pkgs: pkgs.callPackage ./nix/programs.nix { };

      host =
        path:
        lib.nixosSystem {
          modules = [
            path
            { nixpkgs.hostPlatform = "x86_64-linux"; }
          ];
        };
    in
    {
      packages = forAllSystems (
        pkgs:
        let
          p = programs pkgs;
        in
        {
          inherit (p)
            honeybot
            honeybot-ingest
            honeybot-janitor
            honeybot-narrator
            honeybot-director
            ai-commit
            ;
          default = p.honeybot;
        }
      );

      overlays.default = final: _prev: {
        inherit (programs final)
          honeybot
          honeybot-ingest
          honeybot-janitor
          honeybot-narrator
          honeybot-director
          ai-commit
          ;
      };

      # `imports = [ honeybot.nixosModules.default ];` — needs no specialArgs.
      nixosModules.default = ./modules;
      nixosModules.honeybot = ./modules;

      nixosConfigurations = {
        webhead = host ./hosts/webhead.nix;
        workstation = host ./hosts/workstation.nix;
      };

      checks = forAllSystems (
        pkgs:
        let
          packages = lib.mapAttrs' (n: lib.nameValuePair "package-${n}") self.packages.${pkgs.stdenv.hostPlatform.system};
          # Every example host must keep evaluating and building (srvos does the same).
          hosts = lib.optionalAttrs (pkgs.stdenv.hostPlatform.system == "x86_64-linux") (
            lib.mapAttrs'
              (
                n: c: lib.nameValuePair "host-${n}" c.config.system.build.toplevel
              )
              self.nixosConfigurations
          );
          # Every file under tests/nixos/ is a NixOS VM test, collected automatically.
          vmTests = lib.mapAttrs'
            (
              file: _:
                lib.nameValuePair "vm-${lib.removeSuffix ".nix" file}" (
                  import ./tests/nixos/${file} { inherit pkgs; }
                )
            )
            (lib.filterAttrs (n: t: t == "regular" && lib.hasSuffix ".nix" n) (builtins.readDir ./tests/nixos));
        in
        packages // hosts // vmTests
      );

      formatter = forAllSystems (pkgs: pkgs.nixpkgs-fmt);
    };
}
