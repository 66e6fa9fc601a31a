# One package per program: the workspace binary wrapped so that the runtime tools it calls
# are pinned. They are put IN FRONT of PATH (`--prefix`): every tool a program runs by itself
# comes from here, never from the host; the host's PATH stays behind them only for programs
# the user names on purpose (the narrator's `sink.player = "command"`, git hooks ai-commit's
# git runs).
{ lib
, callPackage
, runCommand
, makeWrapper
, git
, espeak-ng
, piper-tts
, pulseaudio
, pipewire
, alsa-utils
, sox
, chromium
, wmctrl
, xdotool
, nginx
, unwrapped ? callPackage ./package.nix { }
,
}:
let
  wrap =
    name: runtimeInputs: description:
    runCommand name
      {
        nativeBuildInputs = [ makeWrapper ];
        passthru = { inherit unwrapped; };
        meta = unwrapped.meta // {
          inherit description;
          mainProgram = name;
        };
      }
      ''
        mkdir -p $out/bin
        makeWrapper ${unwrapped}/bin/${name} $out/bin/${name} \
          --prefix PATH : ${lib.makeBinPath runtimeInputs}
      '';
in
{
  inherit unwrapped;
  honeybot = wrap "honeybot" [ ] "Honeybot CLI: import access logs, reports, live dashboard";
  honeybot-ingest = wrap "honeybot-ingest" [ ] "Follows nginx access logs into HoneyDB, exactly once";
  # nginx: the default `test_command` (`nginx -t` on the new map; the NixOS module names the
  # host's own nginx binary instead); git: `git_repo`, the map committed to the site.
  honeybot-janitor = wrap "honeybot-janitor" [ nginx git ] "Turns the 404s in HoneyDB into validated nginx 301 redirects to live pages";
  honeybot-narrator = wrap "honeybot-narrator" [
    piper-tts
    espeak-ng
    pulseaudio # paplay
    pipewire # pw-play
    alsa-utils # aplay
    sox
  ] "Reads articles and events aloud with a local TTS voice";
  # The browser here is the default one; the module writes the picked browser's store path
  # into the config (`browser.command`), so Firefox is pinned the same way.
  honeybot-director = wrap "honeybot-director" [
    chromium
    wmctrl
    xdotool
  ] "The live show: articles in a browser window, read by the narrator, with breaking news";
  ai-commit = wrap "ai-commit" [ git ] "Commit messages from a local LLM, never an error text";
}
