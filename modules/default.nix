# All Honeybot NixOS modules. Works on its own (`imports = [ ./modules ];`), no specialArgs.
{
  imports = [
    ./common.nix
    ./ingest.nix
    ./nginx.nix
    ./narrator.nix
    ./ai-commit.nix
    ./director.nix
  ];
}
