import { COMMON_HELP, type Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { COMMAND_NAMES } from '../main.ts';

const FLAGS = ['--url', '--token', '--auth', '--json', '--quiet', '--retries', '--help'];

const bash = (commands: readonly string[]) => `# arca completion for bash: source <(arca completion bash)
_arca() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${commands.join(' ')} help --help --version" -- "$cur") )
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "${FLAGS.join(' ')}" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o default -F _arca arca
`;

const zsh = (commands: readonly string[]) => `#compdef arca
# arca completion for zsh: arca completion zsh > "\${fpath[1]}/_arca"
_arca() {
  if (( CURRENT == 2 )); then
    compadd -- ${commands.join(' ')} help --help --version
  elif [[ "$words[CURRENT]" == -* ]]; then
    compadd -- ${FLAGS.join(' ')}
  else
    _files
  fi
}
compdef _arca arca
`;

export const completion: Command = {
  help: `Usage: arca completion bash|zsh

Prints a shell completion script for arca's commands and common options.

${COMMON_HELP}

Examples:
  arca completion bash > ~/.local/share/bash-completion/completions/arca
  source <(arca completion bash)
  arca completion zsh > "\${fpath[1]}/_arca"`,
  run: async (ctx) => {
    const [shell, extra] = ctx.positionals;
    if ((shell !== 'bash' && shell !== 'zsh') || extra !== undefined) {
      throw new UsageError('expected `arca completion bash` or `arca completion zsh`');
    }
    process.stdout.write(shell === 'bash' ? bash(COMMAND_NAMES) : zsh(COMMAND_NAMES));
    return 0;
  },
};
