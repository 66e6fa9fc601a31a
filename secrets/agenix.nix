# Worked example (not imported anywhere): Honeybot's secrets with agenix.
# The host imports agenix's module (inputs.agenix.nixosModules.default) and Honeybot's.
#
#   secrets.nix (agenix's recipients file, beside the .age files):
#     let webhead = "ssh-ed25519 AAAA... root@webhead"; alice = "ssh-ed25519 AAAA... alice";
#     in {
#       "honeybot-ip-key.age".publicKeys = [ webhead alice ];
#       "ai-commit-api-key.age".publicKeys = [ webhead alice ];
#     }
#   agenix -e honeybot-ip-key.age    # paste the output of: head -c 32 /dev/urandom | base64
{ config, ... }:
{
  # Decrypted at activation to /run/agenix/honeybot-ip-key, root:root 0400: only systemd
  # reads it, and hands it to the service with LoadCredential.
  age.secrets.honeybot-ip-key = {
    file = ./honeybot-ip-key.age; # the ENCRYPTED file may be in the store; the key may not
    mode = "0400";
  };
  services.honeybot.ingest = {
    enable = true;
    settings.ip_mode = "hash";
    ipHashKeyFile = config.age.secrets.honeybot-ip-key.path; # a string: "/run/agenix/..."
  };

  # A remote LLM for ai-commit: read by the user who commits, so that user owns it.
  age.secrets.ai-commit-api-key = {
    file = ./ai-commit-api-key.age;
    owner = "alice";
    mode = "0400";
  };
  programs.ai-commit = {
    enable = true;
    settings = {
      provider = "openai";
      endpoint = "https://llm.example.net";
      model = "some-model";
      api_key_file = config.age.secrets.ai-commit-api-key.path;
    };
  };
}
