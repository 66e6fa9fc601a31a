# Must FAIL evaluation: an API key inside the world-readable Nix store (scripts/check-nix.sh).
{
  imports = [ ../../hosts/base.nix ../../modules ];
  programs.ai-commit = {
    enable = true;
    settings.api_key_file = "/nix/store/00000000000000000000000000000000-api-key";
  };
}
