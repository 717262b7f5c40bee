/**
 * Tool results and listings as the MCP SDK types them, and the one-line error result every tool
 * failure becomes (the server keeps serving; MCP clients show `isError` results to the model).
 */
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';

export type ToolResult = CallToolResult;
export type ToolListing = Tool;

export function textResult(text: string): ToolResult {
  return { content: [{ type: 'text', text }] };
}

export function errorResult(message: string): ToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}
