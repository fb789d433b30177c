// The buttons for people who would rather pick than drag: files, or a whole folder.

import { filesFromInput, type PickedFile } from '../../lib/files';
import { useServices } from '../../state/context';

interface Props {
  onFiles: (files: PickedFile[]) => void;
}

export function Pickers({ onFiles }: Props) {
  const { t } = useServices();
  const take = (input: HTMLInputElement, fromFolder: boolean) => {
    if (input.files && input.files.length > 0) onFiles(filesFromInput(input.files, fromFolder));
    // Reset, so that picking the same file again still fires a change.
    input.value = '';
  };
  // Folder selection is a non-standard attribute the JSX types do not know. It must be `true`, not
  // '': Preact sets it as the (reflecting, boolean) DOM property, and '' would mean false.
  const folderAttrs = { webkitdirectory: true, directory: true } as Record<string, boolean>;
  return (
    <div class="pickers">
      <label class="button">
        {t('addFiles')}
        <input
          type="file"
          multiple
          class="visually-hidden"
          data-testid="file-input"
          onChange={(e) => take(e.currentTarget, false)}
        />
      </label>
      <label class="button">
        {t('addFolder')}
        <input
          type="file"
          multiple
          class="visually-hidden"
          data-testid="folder-input"
          {...folderAttrs}
          onChange={(e) => take(e.currentTarget, true)}
        />
      </label>
    </div>
  );
}
