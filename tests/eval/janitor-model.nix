# The janitor with a model (an OpenAI-compatible endpoint with an API key), for
# scripts/check-nix.sh: the key reaches the service as a credential (never in the store or
# the TOML), the service may then use IPv4/IPv6, and it stays at exposure <= 2.0.
{ config, lib, ... }:
let
  unit = config.systemd.services.honeybot-janitor.serviceConfig;
  llm = config.services.honeybot.janitor.settings.llm;
in
{
  imports = [ ./janitor-vm.nix ];
  services.honeybot.janitor = {
    settings.llm = {
      provider = "openai";
      endpoint = "https://llm.example.org";
      model = "small";
    };
    llmApiKeyFile = "/run/secrets/janitor-llm-key";
  };
  assertions = [
    {
      assertion = unit.LoadCredential == [ "llm-api-key:/run/secrets/janitor-llm-key" ];
      message = "the API key is not handed over with LoadCredential: ${toString unit.LoadCredential}";
    }
    {
      assertion = !unit.PrivateNetwork && lib.elem "AF_INET" unit.RestrictAddressFamilies;
      message = "the janitor with a model has no network";
    }
    {
      assertion = llm.model == "small";
      message = "settings.llm lost";
    }
  ];
}
