import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { ApiError } from "../api/client";
import { uploadAttachment } from "../api/upload";
import type { Upload } from "../components/Attachments";

/** Upload files to an order one after another, tracking each one's progress. */
export function useUploads() {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const queries = useQueryClient();
  const upload = useCallback(
    async (orderId: string, files: File[]) => {
      const update = (name: string, change: Partial<Upload>) =>
        setUploads((all) => all.map((u) => (u.name === name ? { ...u, ...change } : u)));
      setUploads((all) => [
        ...all,
        ...files.map((f) => ({ name: f.name, size: f.size, progress: 0 })),
      ]);
      let failed = 0;
      for (const file of files) {
        try {
          await uploadAttachment(orderId, file, (progress) => update(file.name, { progress }));
        } catch (error) {
          failed += 1;
          update(file.name, { error: error instanceof ApiError ? error.message : String(error) });
        }
      }
      await queries.invalidateQueries({ queryKey: ["orders", orderId, "attachments"] });
      return failed;
    },
    [queries],
  );
  return { uploads, upload };
}
