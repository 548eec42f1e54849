import { API_BASE_URL, ApiError, getAccessToken, problemMessage } from "./client";
import type { AttachmentOut } from "./generated/types.gen";

function base64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] ?? "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/**
 * Upload one attachment, reporting progress (0..1). XMLHttpRequest rather than fetch: only it
 * reports upload progress. The body is the generated client's shape (JSON, base64 content).
 */
export async function uploadAttachment(
  orderId: string,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<AttachmentOut> {
  const body = JSON.stringify({
    filename: file.name,
    content_type: file.type || "application/octet-stream",
    content_base64: await base64(file),
  });
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(
      "POST",
      `${API_BASE_URL}/api/orders/orders/${encodeURIComponent(orderId)}/attachments`,
    );
    xhr.setRequestHeader("content-type", "application/json");
    const token = getAccessToken();
    if (token) xhr.setRequestHeader("authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(xhr.responseText);
      } catch {
        parsed = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(parsed as AttachmentOut);
      } else
        reject(new ApiError(xhr.status, problemMessage(xhr.status, parsed), undefined, parsed));
    };
    xhr.onerror = () => reject(new ApiError(0, "Clearway cannot be reached."));
    xhr.send(body);
  });
}
