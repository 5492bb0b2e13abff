/**
 * The chat page's static files. Written from a file one level below the root, like the schema paths:
 * the expression resolves to the same folder from router/ (tsx) and from the dist/ bundle.
 */
export const CHAT_PAGE_DIR = new URL('../router/chatPage/', import.meta.url);
