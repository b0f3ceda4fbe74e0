import { render } from 'preact';
import { CapturePage } from './pages/CapturePage.js';
import { ManageApp } from './pages/ManageApp.js';
import './styles.css';

// Two pages under one bundle: /manage/capture (state-authorized credential
// form) and everything else under /manage/ (the handoff session).
const capture = location.pathname.replace(/\/+$/, '').endsWith('/capture');
render(capture ? <CapturePage /> : <ManageApp />, document.getElementById('app')!);
