// The whole window accepts dropped files and folders. In a browser that is the HTML drag-and-drop
// events (folders walked with webkitGetAsEntry); in the desktop app the webview takes the drop
// itself and Tauri reports native paths, which the server can ingest in place without copying.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { filesFromDrop, type PickedFile } from '../../lib/files';
import { useServices } from '../../state/context';

interface Props {
  onFiles: (files: PickedFile[]) => void;
  onPaths: (paths: string[]) => void;
  children: ComponentChildren;
}

function carriesFiles(e: DragEvent): boolean {
  return Array.from(e.dataTransfer?.types ?? []).includes('Files');
}

export function DropZone({ onFiles, onPaths, children }: Props) {
  const { api, t, toasts } = useServices();
  const [over, setOver] = useState(false);
  // dragenter/dragleave fire for every child crossed; a counter tells when the pointer really left.
  const depth = useRef(0);
  const onPathsRef = useRef(onPaths);
  onPathsRef.current = onPaths;

  useEffect(() => {
    if (api.transport.kind !== 'tauri') return;
    let unlisten: (() => void) | null = null;
    let disposed = false;
    import('@tauri-apps/api/webview')
      .then(({ getCurrentWebview }) =>
        getCurrentWebview().onDragDropEvent((event) => {
          const p = event.payload;
          if (p.type === 'enter' || p.type === 'over') setOver(true);
          else if (p.type === 'leave') setOver(false);
          else if (p.type === 'drop') {
            setOver(false);
            if (p.paths.length > 0) onPathsRef.current(p.paths);
          }
        }),
      )
      .then((fn) => {
        if (disposed) fn();
        else unlisten = fn;
      })
      .catch((e: unknown) => toasts.error(e));
    return () => {
      disposed = true;
      unlisten?.();
    };
  }, [api, toasts]);

  return (
    <div
      class={`drop-zone${over ? ' drop-zone-active' : ''}`}
      data-testid="drop-zone"
      onDragEnter={(e) => {
        if (!carriesFiles(e)) return;
        e.preventDefault();
        depth.current += 1;
        setOver(true);
      }}
      onDragOver={(e) => {
        if (!carriesFiles(e)) return;
        // Without preventDefault the browser would open the file instead of dropping it here.
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
      }}
      onDragLeave={() => {
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setOver(false);
      }}
      onDrop={(e) => {
        e.preventDefault();
        depth.current = 0;
        setOver(false);
        if (!e.dataTransfer) return;
        filesFromDrop(e.dataTransfer).then(
          (files) => files.length > 0 && onFiles(files),
          (err: unknown) => toasts.error(err),
        );
      }}
    >
      {children}
      {over && (
        <div class="drop-overlay" aria-hidden="true">
          <div class="drop-overlay-box">{t('dropRelease')}</div>
        </div>
      )}
    </div>
  );
}
