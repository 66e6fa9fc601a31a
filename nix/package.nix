# The Honeybot workspace, built once; the per-program packages in ./programs.nix wrap its
# binaries with the runtime tools each one calls.
{ lib
, rustPlatform
,
}:
let
  root = ../.;
in
rustPlatform.buildRustPackage {
  pname = "honeybot-unwrapped";
  version = (lib.importTOML ../Cargo.toml).workspace.package.version;

  # Only what the build reads: a change to docs/, modules/ or hosts/ does not rebuild.
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      ../Cargo.toml
      ../Cargo.lock
      ../crates
    ];
  };

  cargoLock.lockFile = ../Cargo.lock;

  # Unit tests only: the integration tests start nginx, PulseAudio, piper and git, which
  # the build sandbox does not have (they run in scripts/test.sh and in tests/nixos/).
  cargoTestFlags = [
    "--workspace"
    "--lib"
  ];

  meta = {
    description = "Honeybot: a self-hosted web head that watches itself";
    license = with lib.licenses; [
      mit
      asl20
    ];
    platforms = lib.platforms.linux;
  };
}
