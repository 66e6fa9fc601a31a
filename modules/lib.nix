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

  # The one assertion every secret path option gets (secrets/README.md): a secret file must
  # not be in the Nix store, which every local user can read. `option` is the option's full
  # name as the user writes it, `value` its value (null = unset, accepted).
  #   assertions = [ (hbLib.secretNotInStore "services.honeybot.ingest.ipHashKeyFile" cfg.ipHashKeyFile) ];
  secretNotInStore = option: value: {
    assertion = value == null || !lib.hasPrefix builtins.storeDir (toString value);
    message = "${option} points into the Nix store, which is world-readable: keep the secret in a root-only file outside it (agenix: /run/agenix/..., sops-nix: /run/secrets/...) and give its path as a string, not a Nix path literal (see secrets/README.md).";
  };

  # How a system service gets a secret file (secrets/README.md): systemd copies `file` (may be
  # root-only) to /run/credentials/<unit>/<name>, readable by the service alone. Returns the
  # `LoadCredential` list for serviceConfig (empty when `file` is null) and the `path` the
  # daemon's config names.
  #   key = hbLib.credential "honeybot-ingest.service" "ip-hash-key" cfg.ipHashKeyFile;
  #   ... settings.ip_hash_key_file = key.path; serviceConfig.LoadCredential = key.loadCredential;
  credential = unit: name: file: {
    path = "/run/credentials/${unit}/${name}";
    loadCredential = lib.optional (file != null) "${name}:${toString file}";
  };
}
