# All Honeybot NixOS modules. Works on its own (`imports = [ ./modules ];`), no specialArgs.
{
  imports = [
    ./common.nix
    ./ingest.nix
    ./janitor.nix
    ./nginx.nix
    ./narrator.nix
    ./ai-commit.nix
    ./director.nix
  ];
}
