/** The page's entry: its styles, and the page bound to the document (page.ts, page-state.ts). */
import './styles.css';
import { mount } from './page.ts';

mount(__STATIC_SITE__ ? 'static' : 'server');
